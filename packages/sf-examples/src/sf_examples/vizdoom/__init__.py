"""VizDoom scenarios (vizdoom's engine and freedoom WADs) with Doom's usual preprocessing and a conv + GRU model (``sf-examples[vizdoom]``)."""
