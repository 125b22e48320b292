-- The leaderboards, each group's titles best first (see leaderboard_titles.sql).
-- grain: one row per title; key: title_id
select * from leaderboard_titles
order by source, rating_scale desc, position
