"""Statistical named-entity recognition: a linear-chain CRF over offset-keeping tokens."""
