-- review_ring: the reviews of ring accounts. A ring pair is a pair of titles, each in a window of
-- time, that more reviewers reviewed together than chance allows (trust_ring_pairs: ring_pairs.sql's
-- rows whose Poisson tail the Python side kept, registered by reviewpipe.trust.subsets); a reviewer
-- is in a ring when they are among the co-reviewers of at least two ring pairs of titles (so at
-- least three titles). The subset of a title: its reviews by ring reviewers, of the titles of their
-- ring pairs.
-- grain: one row per review in the subset; key: row_id (trust_reviews).
with titles as (
    select * from trust_ring_titles
),

ring_pairs as (
    select * from trust_ring_pairs
),

-- the co-reviewers of each ring pair, counted as ring_pairs.sql counts them
co as (
    select distinct a.reviewer_no, ring_pairs.title_a, ring_pairs.title_b
    from ring_pairs
    join titles as a on a.title_id = ring_pairs.title_a and a.time_window = ring_pairs.window_a
    join titles as b
        on b.title_id = ring_pairs.title_b and b.time_window = ring_pairs.window_b
        and b.reviewer_no = a.reviewer_no
    where a.writing <> b.writing
),

ring_reviewers as (
    select reviewer_no
    from co
    group by reviewer_no
    having count(*) >= 2
),

-- each ring reviewer's titles of their ring pairs
reviewer_titles as (
    select distinct reviewer_no, title_id
    from (
        select reviewer_no, title_a as title_id from co
        union all
        select reviewer_no, title_b as title_id from co
    )
    semi join ring_reviewers using (reviewer_no)
),

title_accounts as (
    select title_id, count(*) as accounts
    from reviewer_titles
    group by title_id
),

reviewer_counts as (
    select reviewer_no, count(*) as ring_titles
    from reviewer_titles
    group by reviewer_no
),

final as (
    select
        reviews.row_id,
        'review_ring' as test,
        'one of ' || title_accounts.accounts || ' accounts that reviewed this title within '
            || $ring_days || ' days of each other and other titles likewise, more often than chance; '
            || 'this one, ' || reviewer_counts.ring_titles || ' such titles' as detail
    from trust_reviews as reviews
    join reviewer_titles using (reviewer_no, title_id)
    join reviewer_counts using (reviewer_no)
    join title_accounts using (title_id)
)

select * from final
