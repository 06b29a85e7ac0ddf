from issuance.cli import main

main()
