"""The project's settings for tests, and for the servers tests start (``shared_database_env``
passes this module on): the same as production but for a fast password hasher, since
hashing every test user's password with PBKDF2 costs most of a second each."""

from ctiproject.settings import *  # noqa: F403 - the production settings, unchanged

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
