"""The deployment entrypoint of the reviewpipe Prefect flow (prefect.yaml:
`flows/pipeline.py:reviewpipe_pipeline`); the flow itself is reviewpipe.flow, in the package.

Run it with `reviewpipe run --prefect`, or `python flows/pipeline.py --config reviewpipe.toml`.
"""

from __future__ import annotations

import argparse

from reviewpipe.flow import reviewpipe_pipeline

__all__ = ["reviewpipe_pipeline"]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--runner", choices=["local", "dask"], default=None)
    parser.add_argument("--dask-address", default=None)
    args = parser.parse_args()
    reviewpipe_pipeline(config_path=args.config, full_refresh=args.full_refresh, runner=args.runner,
                        dask_address=args.dask_address)
