"""``python -m nvlib.convert ...`` = ``nvlib convert ...``."""
import argparse
import sys

from nvlib.convert.cli import add_arguments, main

ap = argparse.ArgumentParser(prog="nvlib convert")
add_arguments(ap)
sys.exit(main(ap.parse_args()))
