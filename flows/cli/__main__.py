"""`python -m breaknews.flows.cli`: the same as the `breaknews` command."""

from breaknews.flows.cli import run

run()
