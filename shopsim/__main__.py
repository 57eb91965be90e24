"""`python -m shopsim` is the `shopsim` command."""

import sys

from shopsim.cli import main

sys.exit(main())
