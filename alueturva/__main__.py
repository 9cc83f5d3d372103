from alueturva.cli import main

main()
