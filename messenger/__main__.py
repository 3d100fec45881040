from messenger.cli.main import main

main()
