"""The Pulumi program's building blocks and `make build`'s Lambda packager.

`infra.program.build_stack` composes the components from `lambdas.catalog`; `__main__.py` at the repository root
is what the Pulumi CLI runs. Nothing here touches the network or builds anything at import time.
"""
