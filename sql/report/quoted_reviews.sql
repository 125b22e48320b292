-- What the report shows of each review it quotes: the caller appends one
-- "or (title_id = ? and review_id = ?)" per quoted review. grain: one row per quoted review;
-- key: (title_id, review_id)
-- Texts are stored ZSTD-compressed and in title order: a condition "title and id" per review reads
-- only the blocks of those titles, where IN lists or a join on the quoted ids decompress every
-- text of the table, and one query per review costs more than all of them in one.
select
    title_id,
    review_id,
    source,
    author,
    reviewer_id,
    review_title,
    review_date,
    rating,
    rating_scale,
    review_text
from reviews
where false
