"""`python -m meetings.worker start`: run the media worker."""

import sys

from meetings.worker.server import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
