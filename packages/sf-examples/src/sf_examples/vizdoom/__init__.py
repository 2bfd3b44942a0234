"""VizDoom scenarios with Doom's usual preprocessing and a conv + GRU model.

Needs ``sf-examples[vizdoom]`` (vizdoom ships the engine, the freedoom WADs and the scenarios).
"""
