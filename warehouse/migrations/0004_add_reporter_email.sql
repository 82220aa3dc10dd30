-- The reporter's e-mail address, read from a line of its own at the end of the body, the dateline or
-- the byline (it used to be left in the body as a paragraph). NULL until a page is re-extracted.
ALTER TABLE articles ADD COLUMN reporter_email VARCHAR;
