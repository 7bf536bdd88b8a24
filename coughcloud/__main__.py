import sys

from coughcloud.cli import main

sys.exit(main())
