-- review_ring, the titles left out of each ring title's baseline: per title with ring reviewers
-- (review_ring's subset, in trust_members under $ring_test_index), the other titles that one of
-- them is in the subset of. A ring reviews several titles at once: counted in each other's
-- baseline, its own reviews would raise the share the test expects of each of its titles (in a
-- small warehouse, as much as it finds). Read by trust_title_tests.sql.
-- grain: one row per (title_id, test_index, other_title_id); key: the three.
with ring as (
    select distinct reviews.title_id, reviews.reviewer_no
    from trust_members as members
    join trust_reviews as reviews using (row_id)
    where members.test_index = $ring_test_index
),

final as (
    select distinct
        ring.title_id,
        $ring_test_index::integer as test_index,
        other.title_id as other_title_id
    from ring
    join ring as other on other.reviewer_no = ring.reviewer_no and other.title_id <> ring.title_id
)

select * from final
