"""`python3 -m bench MODE [OPTIONS]` (PYTHONPATH=scripts): what scripts/bench.sh runs."""
import sys

from bench.cli import main

sys.exit(main(sys.argv[1:]))
