"""`python -m terminal`: the same as `aisleway terminal`."""

import sys

from terminal.launcher import main

sys.exit(main())
