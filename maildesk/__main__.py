"""`python -m maildesk`: the same command line as the `maildesk` script."""

from maildesk.entry import main

if __name__ == "__main__":
    main()
