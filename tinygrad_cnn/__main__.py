import sys

from tinygrad_cnn._start import restore_interrupts
from tinygrad_cnn.cli import main

restore_interrupts()  # (the start-up handler: main's KeyboardInterrupt handling from here)
sys.exit(main(_whole_process=True))
