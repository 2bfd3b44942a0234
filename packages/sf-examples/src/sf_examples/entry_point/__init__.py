"""An env declared through the ``sf.envs`` entry-point group: ``sf-cli train --env sf_corridor`` needs no script."""
