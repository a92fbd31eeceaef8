"""Communities: who belongs where, and who may read what inside them."""
