-- Descriptions carried into the published database (`reviewpipe tables` and any SQL client show them).
-- The README's table reference says the same in the same words.
comment on table titles is 'One row per title, merged over all sources (later loads fill in and override earlier ones).';
comment on column titles.title_id is 'Title key as the source gives it (IMDb tconst, product id, folder name).';
comment on column titles.site_rating is 'The site''s own average rating, on the source''s scale.';
comment on column titles.site_votes is 'Number of votes behind site_rating.';
comment on column titles.user_review_count is 'User reviews the site reports for the title ("2.9K" read as 2900).';
comment on column titles.critic_review_count is 'Critic reviews the site reports for the title.';

comment on table reviews is 'One row per usable review, cleaned, with helpfulness and VADER sentiment.';
comment on column reviews.review_id is 'Given by the source, or md5 of source, title_id, author, review_date and review_text.';
comment on column reviews.rating is 'The reviewer''s star rating on rating_scale; null when none was given.';
comment on column reviews.review_text is 'Cleaned text: HTML breaks and entities decoded, whitespace normalised.';
comment on column reviews.helpful_ratio is 'helpful_votes / total_votes; null when total_votes = 0.';
comment on column reviews.helpful_wilson_lb is '95% Wilson score lower bound of helpful_votes of total_votes; 0 when total_votes = 0.';
comment on column reviews.sentiment_compound is 'vaderSentiment 3.3.2 compound score of review_text, -1..1.';
comment on column reviews.sentiment_label is 'positive if compound >= 0.05, negative if <= -0.05, else neutral.';
comment on column reviews.file_path is 'The file the review was loaded from; row_number is its record number there (1 = first data row).';

comment on table agg_title_summary is 'One row per title: review and rating counts, rating mean/median/stddev, votes, sentiment shares.';
comment on column agg_title_summary.rating_stddev is 'Sample standard deviation (n - 1) of the review ratings.';
comment on column agg_title_summary.sentiment_mean is 'Mean compound score over the title''s reviews with text.';
comment on column agg_title_summary.positive_share is 'Share of the title''s reviews with text labelled positive.';

comment on table agg_rating_distribution is 'Rating histogram per title: every whole point of the scale, with review_count and share (shares of a title sum to 1).';
comment on table agg_top_helpful_reviews is 'Top 10 reviews per title by helpful_wilson_lb among reviews with votes; ties by helpful_votes, total_votes, review_id.';
comment on table quarantine is 'Rows, reader-rejected lines and unreadable files that were not loaded, with the reason.';
comment on column quarantine.column_name is 'The pipeline field that failed a check; for a line the reader rejected (line_number set), the file''s own column.';
comment on table load_log is 'Every file considered: fingerprint (sha256 of bytes and source config), status, records read.';
