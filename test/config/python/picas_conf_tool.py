"""Writes and reads ~/.config/picas the way the Python `picas-cli init` does, for picas's interop tests.

The Python client stores the Fernet key (Fernet.generate_key(), no newline) in key.dat (dir 0700, file
0600) and conf.yml with yaml.safe_dump(default_flow_style=False) of exactly the keys host_url, database,
username, encrypted_password. This script reproduces that with the same libraries (PyYAML, cryptography).

Usage:
  picas_conf_tool.py write DIR HOST_URL DATABASE USERNAME   (password on stdin)
  picas_conf_tool.py read DIR                               (prints JSON with the decrypted password)
"""
import json
import os
import stat
import sys

import yaml
from cryptography.fernet import Fernet


def write(directory, host_url, database, username, password):
    key_path = os.path.join(directory, "key.dat")
    if not os.path.isdir(directory):
        os.mkdir(directory)
        os.chmod(directory, stat.S_IRWXU)
    if not os.path.exists(key_path):
        with open(key_path, "wb") as fobj:
            fobj.write(Fernet.generate_key())
        os.chmod(key_path, stat.S_IRUSR | stat.S_IWUSR)
    with open(key_path, "rb") as fobj:
        key = fobj.read()
    config = {
        "host_url": host_url,
        "database": database,
        "username": username,
        "encrypted_password": Fernet(key).encrypt(password).decode(),
    }
    with open(os.path.join(directory, "conf.yml"), "w") as fobj:
        yaml.safe_dump(config, fobj, default_flow_style=False)


def read(directory):
    with open(os.path.join(directory, "conf.yml")) as fobj:
        config = yaml.safe_load(fobj)
    with open(os.path.join(directory, "key.dat"), "rb") as fobj:
        key = fobj.read()
    config["password"] = Fernet(key).decrypt(config["encrypted_password"]).decode()
    json.dump(config, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.stdin.buffer.read())
    elif sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit("unknown command")
