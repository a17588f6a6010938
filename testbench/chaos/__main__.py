"""``python -m testbench.chaos``: run the reliability suite and print its table."""

from testbench.chaos.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
