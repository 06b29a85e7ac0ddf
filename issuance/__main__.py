from issuance.cli.main import main

main()
