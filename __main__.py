"""The Pulumi program (Pulumi.yaml): every resource is generated from lambdas/catalog/ by infra/."""

from __future__ import annotations

from infra.program import main

main()
