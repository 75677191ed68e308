import sys

from ormgc.console import main

sys.exit(main())
