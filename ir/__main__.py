"""Allow `python -m ir`."""

from ir.cli import main

if __name__ == "__main__":
    main()
