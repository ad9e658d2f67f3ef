"""`python -m local.stack`: the whole backend on localhost (see `local.stack.cli`)."""

from local.stack.cli import main

raise SystemExit(main())
