import sys

from testbench.benchmark.run import main

sys.exit(main())
