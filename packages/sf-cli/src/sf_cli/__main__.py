"""``python -m sf_cli``: the same as the ``sf-cli`` console script."""

from sf_cli import main

if __name__ == "__main__":
    main()
