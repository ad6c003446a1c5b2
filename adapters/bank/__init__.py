"""Bank files: SEPA pain.001 credit transfers out (pain001.py); CAMT.053 statements in follow in issue 6."""
