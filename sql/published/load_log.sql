-- Every file ever considered, its fingerprint and what loading it gave. grain: (source, file_path)
with loads as (
    select * from load_log
),

final as (
    select
        source,
        kind,
        file_path,
        status,
        records_read,
        lines_rejected,
        message,
        file_bytes,
        fingerprint,
        run_id,
        loaded_at
    from loads
)

select * from final
order by source, file_path
