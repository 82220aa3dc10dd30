"""The steps of the pipeline: read, decode, identify, extract, split, load.

Plain functions with no Prefect import; `flows` wraps them in Prefect tasks.
"""
