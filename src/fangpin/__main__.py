from fangpin.cli import main

main()
