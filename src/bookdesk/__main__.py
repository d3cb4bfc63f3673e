from bookdesk.cli import main

main()
