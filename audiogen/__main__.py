from audiogen.cli.main import main

main()
