"""The Prefect deployment of the pipeline, from the config's [schedule]: for `reviewpipe serve` and
for prefect.yaml (`reviewpipe prefect-yaml` writes it, `--check` tells whether it is up to date).

Overlapping runs are kept apart twice: the deployment has a Prefect concurrency limit of one run
(where a Prefect server orchestrates runs: served or deployed), and every run holds the warehouse's
run lock (warehouse.run_lock), which also covers runs started by hand. [schedule] overlap picks what a
second run does: "wait" = Prefect's ENQUEUE (it waits for a slot) and the lock's wait; "skip" =
Prefect's CANCEL_NEW (it is cancelled) and the lock's clean exit.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

from reviewpipe.settings import Settings

ENTRYPOINT = "flows/pipeline.py:reviewpipe_pipeline"
WORK_POOL = "reviewpipe-local"

_HEADER = """\
# Prefect deployment of the reviewpipe flow, generated from {config} by `reviewpipe prefect-yaml`:
# change [schedule] there and run that command again (`reviewpipe prefect-yaml --check` fails while
# this file is out of date). Deploy and run it on a Prefect server (README, "Scheduled runs"):
#   prefect work-pool create {pool} --type process
#   prefect deploy --all
#   prefect worker start --pool {pool}
"""


def concurrency_limit(settings: Settings) -> ConcurrencyLimitConfig:
    """One run of the deployment at a time; a second one waits (ENQUEUE) or is cancelled (CANCEL_NEW)."""
    strategy = (ConcurrencyLimitStrategy.CANCEL_NEW if settings.schedule.overlap == "skip"
                else ConcurrencyLimitStrategy.ENQUEUE)
    return ConcurrencyLimitConfig(limit=1, collision_strategy=strategy)


def prefect_yaml(settings: Settings, project: Path) -> str:
    """The text of prefect.yaml for a project folder: the deployment on the config's schedule."""
    config = settings.config_file
    config_path = os.path.relpath(config, project) if config else None
    s = settings.schedule
    limit = concurrency_limit(settings)
    document = {
        "name": "reviewpipe",
        "deployments": [
            {
                "name": s.deployment,
                "description": "Ingest, score, compute metrics, publish and export, on the schedule "
                               "of the config's [schedule].",
                "entrypoint": ENTRYPOINT,
                "parameters": {"config_path": config_path, "full_refresh": False},
                "schedules": [{"cron": s.cron, "timezone": s.timezone}],
                "concurrency_limit": {"limit": limit.limit,
                                      "collision_strategy": limit.collision_strategy.value},
                "work_pool": {"name": WORK_POOL},
            }
        ],
    }
    header = _HEADER.format(config=config_path or "the default configuration", pool=WORK_POOL)
    return header + "\n" + yaml.safe_dump(document, sort_keys=False, width=100)
