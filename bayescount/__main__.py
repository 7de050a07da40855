"""``python -m bayescount``."""

import sys

from bayescount.cli import main

sys.exit(main())
