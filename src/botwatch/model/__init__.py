"""The recurrent variational autoencoder (PyTorch only, no flow tables here)."""
