pytest_plugins = ["credstack.testing"]
