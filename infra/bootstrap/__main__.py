"""The bootstrap Pulumi program (infra/bootstrap/Pulumi.yaml): the code lives in infra/bootstrap/program.py."""

import sys
from pathlib import Path

# Pulumi runs this file from infra/bootstrap/: the repository root holds the `infra` and `lambdas` packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bootstrap.program import main

main()
