import sys

from localaws.control import main

sys.exit(main())
