"""The platform's single declaration: its tables, buckets, user pool, functions and routes.

The Pulumi program (infra/), the embedded stack (embedded_stack/), the OpenAPI document and the tests all
read this module. Routes are declared once, where they are served: by the Powertools route decorators of each
function's resolver, with `security=PROTECTED` or `security=PUBLIC`. `routes()` reads them from there.

Split by kind: `model` (the dataclasses), `resources` (tables, buckets, user pool), `functions`, `routing` (routes),
`gateway` (Gateway Responses) and `outputs`. Everything is re-exported here, so `from lambdas.catalog import X`
reads any of it. Importing this package imports no handler; `routes()` does, lazily, and handler imports have no
side effects.
"""

from __future__ import annotations

from lambdas.catalog.functions import *  # noqa: F403
from lambdas.catalog.gateway import *  # noqa: F403
from lambdas.catalog.model import *  # noqa: F403
from lambdas.catalog.observability import *  # noqa: F403
from lambdas.catalog.outputs import *  # noqa: F403
from lambdas.catalog.resources import *  # noqa: F403
from lambdas.catalog.routing import *  # noqa: F403
