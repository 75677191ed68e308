import sys

from ormgc.cli import main

sys.exit(main())
