"""`python -m maildesk`: the same command line as the `maildesk` script."""

from maildesk.cli import main

if __name__ == "__main__":
    main()
