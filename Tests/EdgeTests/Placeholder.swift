import Edge
