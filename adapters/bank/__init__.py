"""Bank files: SEPA pain.001 credit transfers out (pain001.py, payment_file.py); CAMT.053 statements in
(camt053.py, read safely; statement_files.py hands them to the import), and the bank's side of a statement
for tests, demos and benchmarks (camt053_writer.py)."""
