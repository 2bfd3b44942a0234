"""The spec's custom-environment template, written against sf's own API (train and enjoy scripts)."""
