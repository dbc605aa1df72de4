"""Entry point under the Pulumi CLI (runtime python): the program of upstream_tls_example.py, with
relative configuration paths resolved against this project directory."""

import os

from upstream_tls_example import upstream_tls_program

upstream_tls_program(os.path.dirname(os.path.abspath(__file__)))
