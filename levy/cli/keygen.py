"""`levy-monitor keygen`: a new Ed25519 key to sign close records with ([evidence]
signing_key_file), written readable by its owner alone; its public key is printed."""

import argparse
import os
from pathlib import Path

from levy.app.errors import UsageError
from levy.ledger.signing import new_private_key

HELP = "write a new Ed25519 key for signing close records and print its public key"

PRIVATE_MODE = 0o600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="the key file to create")


def run(args: argparse.Namespace) -> int:
    pem, public_key = new_private_key()
    try:
        descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        raise UsageError(f"{args.out} exists: a signing key is never overwritten") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    print(f"wrote {args.out}; public key {public_key}")
    return 0
