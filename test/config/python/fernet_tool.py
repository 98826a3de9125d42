"""Independent Fernet implementation for picas's tests: Debian's python3-cryptography.

Usage:
  fernet_tool.py encrypt KEY            (plaintext on stdin, token on stdout)
  fernet_tool.py decrypt KEY            (token on stdin, plaintext on stdout; exit 2 on InvalidToken)
  fernet_tool.py genkey                 (a new key on stdout)
"""
import sys

from cryptography.fernet import Fernet, InvalidToken


def main(argv):
    if argv[1] == "genkey":
        sys.stdout.write(Fernet.generate_key().decode())
        return 0
    fernet = Fernet(argv[2].encode())
    data = sys.stdin.buffer.read()
    if argv[1] == "encrypt":
        sys.stdout.write(fernet.encrypt(data).decode())
        return 0
    if argv[1] == "decrypt":
        try:
            sys.stdout.buffer.write(fernet.decrypt(data.strip()))
        except InvalidToken:
            sys.stderr.write("InvalidToken\n")
            return 2
        return 0
    sys.stderr.write("unknown command\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
