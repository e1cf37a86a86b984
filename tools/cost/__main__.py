import sys

from tools.cost.run import main

sys.exit(main())
